-- Responsible parties derived from the city layers: each unit (an unnamed one by its kind, "未命名 便利店", from the
-- labels parameter: category -> label), each compound's manager or 楼院长, each institution (its grounds), each
-- market's operator.
INSERT INTO parties (kind, ref, name, contact, phone)
SELECT 'unit', 'unit:' || u.id,
       coalesce(nullif(btrim(u.name), ''), CAST(:labels AS jsonb) ->> coalesce(u.category, '')), u.contact, u.phone
FROM units u
UNION ALL
SELECT CASE WHEN c.kind = 'institution' THEN 'institution'
            WHEN c.property_manager IS NULL THEN 'building_head' ELSE 'property_manager' END,
       'compound:' || c.id,
       CASE WHEN c.kind = 'institution' THEN coalesce(c.name, c.property_manager, '未命名 单位院落')
            ELSE coalesce(c.property_manager, coalesce(c.name, '小区 #' || c.id) || ' 楼院长（无物业）') END, NULL, NULL
FROM compounds c
UNION ALL
SELECT 'market_operator', 'market:' || m.id, coalesce(m.operator, coalesce(m.name, '市场 #' || m.id) || ' 开办方'),
       NULL, NULL
FROM markets m
ON CONFLICT (kind, ref) DO UPDATE SET name = EXCLUDED.name,
  contact = coalesce(EXCLUDED.contact, parties.contact), phone = coalesce(EXCLUDED.phone, parties.phone)
WHERE (parties.name, parties.contact, parties.phone) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.contact, EXCLUDED.phone)
