"""Python checks that rule files name as `module.function`, grouped by topic."""
