"""What the decision asks and what people report: the goal catalogue, self-assessments, Kommunkompassen."""
