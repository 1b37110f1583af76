/**
 * GP 0.7.2 appendix B host-call identifiers (the `ecalli` immediate), in id order, plus JIP-1
 * `log`. Checked against GP 0.7.2 (general 0-5, refine 6-13, accumulate 14-26).
 */
export const PVM_HOST_GAS = 0;
export const PVM_HOST_FETCH = 1;
export const PVM_HOST_LOOKUP = 2;
export const PVM_HOST_READ = 3;
export const PVM_HOST_WRITE = 4;
export const PVM_HOST_INFO = 5;
export const PVM_HOST_HISTORICAL_LOOKUP = 6;
export const PVM_HOST_EXPORT = 7;
export const PVM_HOST_MACHINE = 8;
export const PVM_HOST_PEEK = 9;
export const PVM_HOST_POKE = 10;
export const PVM_HOST_PAGES = 11;
export const PVM_HOST_INVOKE = 12;
export const PVM_HOST_EXPUNGE = 13;
export const PVM_HOST_BLESS = 14;
export const PVM_HOST_ASSIGN = 15;
export const PVM_HOST_DESIGNATE = 16;
export const PVM_HOST_CHECKPOINT = 17;
export const PVM_HOST_NEW = 18;
export const PVM_HOST_UPGRADE = 19;
export const PVM_HOST_TRANSFER = 20;
export const PVM_HOST_EJECT = 21;
export const PVM_HOST_QUERY = 22;
export const PVM_HOST_SOLICIT = 23;
export const PVM_HOST_FORGET = 24;
export const PVM_HOST_YIELD = 25;
export const PVM_HOST_PROVIDE = 26;
export const PVM_HOST_LOG = 100;
