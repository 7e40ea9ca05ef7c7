INSERT INTO api_tokens (user_id, token_hash, label) VALUES (:u, :h, :l)
