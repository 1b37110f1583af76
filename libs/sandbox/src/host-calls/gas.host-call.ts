import { I64 } from '../host-abi';
import { defineHostCall } from './host-call';

/**
 * `gas() -> i64`: the gas left after this call's own charge (docs/service-abi.md; GP 0.7.2 `gas`).
 * WARNING: the price is consensus-relevant (docs/gas.md cost table v4).
 */
export const gasHostCall = defineHostCall({
  params: [],
  results: [I64],
  price: { base: 400n },
  handle(env) {
    env.charge(this.price.base);
    return env.remaining();
  },
});
