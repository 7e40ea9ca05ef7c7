-- The frontage unit whose party this is (a party of kind unit has ref unit:<id>), if any.
SELECT CAST(substr(ref, 6) AS int) FROM parties WHERE id = :party AND kind = 'unit' AND ref ~ '^unit:[0-9]{1,9}$'
