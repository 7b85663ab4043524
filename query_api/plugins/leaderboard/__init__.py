"""The Leaderboard plugin: the group's top learners in a course, a batch or a program."""
