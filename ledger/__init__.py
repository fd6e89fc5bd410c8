"""caseledger's domain: signed envelopes, the rules, case and directory streams, the log."""
