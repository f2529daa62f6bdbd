"""XueJi statistics dashboards: a Dash multi-page app at /dashboards/ on the admin's Flask
server, behind the FAB login and the "Dashboards" permission, reading the warehouse only
through `analytics` (see README.md in this folder). Mounted by `admin.create_app` through
`dashboards.app.init_dash`."""
