"""The Discussion Forum plugin: threads and replies within a group; admins lock threads and remove posts."""
