"""The Announcements plugin: admins post to a group (title, body, optional expiry); members list them."""
