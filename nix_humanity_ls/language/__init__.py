"""Understanding plain-words requests: phrasing, verbs and the things they name."""
