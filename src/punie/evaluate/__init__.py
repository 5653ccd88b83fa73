"""punie.evaluate"""
