-- One work order as last imported (or placed by staff): inserted, or its row replaced.
INSERT INTO hotline_orders (number, case_id, received_at, content, type_text, category, address, area,
                            reporter_name, reporter_phone, given_point, placement, unplaced_reason, row_sha,
                            import_id, row_number)
VALUES (:number, :case_id, :at, :content, :type_text, :category, :address, :area, :rn, :rp,
        CAST(:given AS jsonb), CAST(:placement AS jsonb), :reason, :sha, :import_id, :row_number)
ON CONFLICT (number) DO UPDATE SET
  case_id = EXCLUDED.case_id, received_at = EXCLUDED.received_at, content = EXCLUDED.content,
  type_text = EXCLUDED.type_text, category = EXCLUDED.category, address = EXCLUDED.address, area = EXCLUDED.area,
  reporter_name = EXCLUDED.reporter_name, reporter_phone = EXCLUDED.reporter_phone,
  given_point = EXCLUDED.given_point, placement = EXCLUDED.placement, unplaced_reason = EXCLUDED.unplaced_reason,
  row_sha = EXCLUDED.row_sha, import_id = coalesce(EXCLUDED.import_id, hotline_orders.import_id),
  row_number = coalesce(EXCLUDED.row_number, hotline_orders.row_number), updated_at = now()
