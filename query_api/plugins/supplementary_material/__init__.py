"""The Supplementary Material plugin: subgroups made from a rule over the parent group, and material (content
ids or URLs with a note) attached per (sub)group, shown to its members only."""
