SELECT inspection_id, seq, item_id, result, score, note, photos
FROM inspection_results WHERE inspection_id = ANY(:ids) ORDER BY inspection_id, seq
