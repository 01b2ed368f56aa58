"""The checks: pandera schemas per table and the cross-table rules of data/<year>/rules.toml."""
