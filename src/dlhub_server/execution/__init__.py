"""Running servables: environments, workers and the executor that schedules them."""
