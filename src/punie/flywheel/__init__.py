"""punie.flywheel"""
