"""punie.evaluate: suites, scoring, the async runner, reports and comparisons.

Public surface: `suite.load_suite`, `runner.run_suite` / `runner.evaluate`,
`results.SuiteResult` / `load_result`, `compare.compare` / `write_comparison`,
`report.render_report` / `loss_curve_svg`, `svg` plots. Nothing heavy is imported here.
"""
