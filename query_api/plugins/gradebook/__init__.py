"""The Gradebook plugin: members' best attempts in a list of assessments (teacher and learner views)."""
