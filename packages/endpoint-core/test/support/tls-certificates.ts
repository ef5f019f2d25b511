// The test certificate authority and server certificates live in @sip-endpoint/test-support (the
// media tests need them too, for TURN over TLS).
export { makeTestCertificates, type TestCertificates } from '@sip-endpoint/test-support';
