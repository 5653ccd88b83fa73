"""punie.serve: a managed mlx_lm.server and endpoint specs for any OpenAI-compatible server.

Import from the submodules (`punie.serve.server`, `punie.serve.endpoints`); this
package imports nothing heavy so `punie --help` stays fast.
"""
