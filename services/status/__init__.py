"""Health-code colours, their Redis cache, health-code tokens and assisted lookup."""
