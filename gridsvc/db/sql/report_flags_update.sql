-- PATCH /reports/{code}: the reward and the public-screen flag (staff), one version more.
UPDATE reports SET reward_amount = :amount, reward_paid = :paid,
       reward_paid_at = CASE WHEN :paid AND NOT reward_paid THEN :now WHEN :paid THEN reward_paid_at END,
       public_screen = :screen, version = version + 1, updated_at = :now
WHERE id = :id
