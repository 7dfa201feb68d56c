INSERT INTO forecast_accuracy_summary
    (monitor_date, dimension, value, window_start, n_rows, wape, bias, rmsse, mase, pinball, coverage)
VALUES
    (:monitor_date, :dimension, :value, :window_start, :n_rows, :wape, :bias, :rmsse, :mase,
     :pinball, :coverage)
