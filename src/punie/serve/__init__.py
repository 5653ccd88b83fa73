"""punie.serve"""
