"""punie.model"""
