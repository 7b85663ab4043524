"""The Assessment plugin: a mentor releases an assessment to a group or a private batch's group."""
