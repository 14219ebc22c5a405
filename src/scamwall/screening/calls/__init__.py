"""Call screening: call-detail records, behaviour features, detectors and their verdicts."""
