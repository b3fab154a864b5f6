/**
 * Ends of sessions, as the reading side tells the labelling side (DialogLabeler.endSession):
 * pairs of numbers, the flow's id and the session that ended, flattened into one array so a
 * batch crosses to a labelling thread as plain numbers. An end names its session because a batch
 * may also hold dialogs of the flow's next session, read before the batch was labelled: ending
 * "the flow's current session" after the batch would cut that one instead.
 */

/** The session of an end that closes the flow itself: whichever session the flow is in. */
export const FLOW_ENDED = -1;
