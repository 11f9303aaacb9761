// words: the device's words (docs/reference.md) in plain language for the page. The word
// itself is always shown too, and is what the test hooks hold.

export const STATE_WORDS = {
	closed: "Closed",
	opening: "Opening",
	open: "Open",
	closing: "Closing",
	stopped: "Stopped part-way",
	unknown: "Unknown",
};

const REASONS = {
	accepted: "The device accepted the command.",
	retained: "The command came as a retained message, which the device never acts on.",
	too_large: "The device could not read the command: it is too large.",
	malformed: "The device could not read the command; this app may be out of date.",
	unknown_door: "The device has no door of that name.",
	unknown_key: "The device does not know this phone's key. Ask the owner to add it, or open a new invitation.",
	forbidden: "This phone's key may not do that on this door.",
	key_not_yet_valid: "This phone's key is not valid yet.",
	key_expired: "This phone's key has expired.",
	key_off_hours: "This phone's key does not work at this time of the day or week.",
	stale: "The command arrived too late, or this phone's clock is behind: check its time settings.",
	future: "This phone's clock is ahead of the device's: check its time settings.",
	replay: "The device had already seen this command.",
	bad_signature: "The signature did not verify: the device has another key under this phone's name.",
	rate_limited: "The door was pressed a moment ago; wait and try again.",
	no_answer: "The device did not answer. Is it online?",
	not_sent: "The command could not be sent: the broker is unreachable.",
	enrolled: "This phone's key is enrolled: it can now open the door.",
	not_supported: "The device does not take invitations yet; ask the owner to add this phone's key.",
};

export function reasonWords(word) {
	return REASONS[word] || `The device refused: ${word}.`;
}

export function stateWords(state) {
	return STATE_WORDS[state] || STATE_WORDS.unknown;
}

// Where a command leads: the state that ends its progress (null: none to wait for).
export function targetOf(action, from) {
	if (action === "open") return "open";
	if (action === "close") return "closed";
	if (action === "stop") return from === "opening" || from === "closing" ? "stopped" : null;
	return null;
}
