"""punie.train"""
