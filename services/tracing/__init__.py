"""The check-in history, contact queries, exports, audit and notifications."""
