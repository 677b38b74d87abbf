/**
 * BUS_VERSION: bumped with any change to a message type. smtpctl and the control worker compare
 * it first, so a client of another version gets a clear refusal instead of garbage.
 */
export const BUS_VERSION = 11;
