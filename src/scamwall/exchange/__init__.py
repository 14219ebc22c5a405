"""Exchange between agencies and instances: the sharing policy first; STIX/TAXII/MISP later."""
