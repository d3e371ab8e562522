"""Output formats the gateway renders: Atom/RSS feeds and IPTC ninjs documents."""
