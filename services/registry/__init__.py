"""People, venues, declaration codes, inspector bindings, venue codes and posters."""
