import type { EndpointPolicy } from './endpoint-policy';

/**
 * Overrides for {@link composePolicy}: any method of {@link EndpointPolicy}, given the context and
 * the policy it overrides (`base`), so that it can defer to it.
 *
 * @public
 */
export type PolicyOverrides = {
  [M in keyof EndpointPolicy]?: (ctx: Parameters<EndpointPolicy[M]>[0], base: EndpointPolicy) => ReturnType<EndpointPolicy[M]>;
};

/**
 * A policy that is `base` with some methods replaced. Methods of `base` that call other methods
 * on `this` (as `DefaultPolicy.shouldAnswer` calls `selectDevices`) see the overrides.
 *
 * @example
 * ```ts
 * const policy = composePolicy(new DefaultPolicy(), {
 *   shouldAnswer: (ctx, base) => (headerValues(ctx.headers, 'X-Priority')[0] === 'vip' ? { answer: true, delayMs: 0, reason: 'VIP' } : base.shouldAnswer(ctx)),
 * });
 * ```
 *
 * @public
 */
export function composePolicy(base: EndpointPolicy, overrides: PolicyOverrides): EndpointPolicy {
  const composed = Object.create(base) as EndpointPolicy;
  const original: EndpointPolicy = {
    shouldAnswer: (ctx) => base.shouldAnswer.call(composed, ctx),
    canMakeCall: (ctx) => base.canMakeCall.call(composed, ctx),
    selectDevices: (ctx) => base.selectDevices.call(composed, ctx),
    sessionStatus: (ctx) => base.sessionStatus.call(composed, ctx),
    ringingPlan: (ctx) => base.ringingPlan.call(composed, ctx),
    codecPriorities: (ctx) => base.codecPriorities.call(composed, ctx),
    mediaEngine: (ctx) => base.mediaEngine.call(composed, ctx),
  };
  for (const name of Object.keys(overrides) as (keyof EndpointPolicy)[]) {
    const override = overrides[name] as ((ctx: unknown, base: EndpointPolicy) => unknown) | undefined;
    if (typeof override !== 'function') continue;
    Object.defineProperty(composed, name, { value: (ctx: unknown) => override(ctx, original), enumerable: true });
  }
  return composed;
}
