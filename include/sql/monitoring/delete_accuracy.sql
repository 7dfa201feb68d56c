-- Remove the accuracy rows of target days whose actuals are (re)joined (same transaction).
DELETE FROM forecast_accuracy WHERE target_date BETWEEN :first_target AND :last_target
