"""The Activity Stream plugin: members' updates and system milestones, newest first."""
