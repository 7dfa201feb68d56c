-- A late or corrected actual: every run date's row of the series and target day.
UPDATE forecast_accuracy
SET actual = :actual
WHERE target_date = :target_date AND sku = :sku AND location_id = :location_id
