"""The explanation: incidents (contiguous bad periods), evidence (facts), wording (sentences)."""
