"""punie.data"""
