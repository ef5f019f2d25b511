export { UdpTransport, bindSipUdp, SipPortError } from './transport/udp-transport';
export type { UdpTransportOptions } from './transport/udp-transport';
export { peekSip } from './transport/sip-peek';
export type { SipPeek } from './transport/sip-peek';
export { Line, LineStateError } from './line/line';
export type { LineOptions, LineEvents } from './line/line';
export type { ConnectionState } from './line/connection-state';
export { MediaSessionDescriptionHandler, mediaSessionDescriptionHandlerFactory } from './media/media-session-description-handler';
export type { MediaContext, MediaDescriptionOptions } from './media/media-session-description-handler';
