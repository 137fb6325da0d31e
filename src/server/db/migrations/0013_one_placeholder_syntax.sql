-- Issue 16: one placeholder syntax, {{first_name|fallback}}. The seed's {Name} and the campaign's
-- "name for contacts without one" (default_name) it fell back to go away; every saved text says the
-- same thing in the one syntax: {Name} -> {{first_name|<default_name>}} ({{first_name}} without one),
-- and a name placeholder without a bar takes the campaign's default as its fallback.
-- The fallback loses the characters a fallback cannot hold ({ } | \).
CREATE FUNCTION wc_fold_default_name(body text, default_name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN f.fallback = '' THEN regexp_replace(body, '(?<!\{)\{\s*name\s*\}(?!\})', '{{first_name}}', 'gi')
    ELSE regexp_replace(
      regexp_replace(body, '(?<!\{)\{\s*name\s*\}(?!\})', '{{first_name|' || f.fallback || '}}', 'gi'),
      '\{\{\s*(first_name|firstname|name)\s*\}\}', '{{\1|' || f.fallback || '}}', 'gi')
  END
  FROM (SELECT regexp_replace(trim(coalesce(default_name, '')), '[{}|\\]', '', 'g') AS fallback) AS f
$$;
--> statement-breakpoint
UPDATE "campaigns" SET "message_text" = wc_fold_default_name("message_text", "default_name")
  WHERE "message_text" ~* '\{\s*(name|first_name|firstname)\s*\}';
--> statement-breakpoint
-- A template is shared: it takes the default of the campaign that uses it and has one (one that has
-- not started first, then the newest).
UPDATE "templates" AS t SET "body" = wc_fold_default_name(t."body", (
    SELECT c."default_name" FROM "campaigns" AS c
    WHERE c."template_id" = t."id" AND coalesce(trim(c."default_name"), '') <> ''
    ORDER BY (c."status" IN ('Draft', 'Scheduled', 'Paused')) DESC, c."created_at" DESC
    LIMIT 1))
  WHERE t."body" ~* '\{\s*(name|first_name|firstname)\s*\}';
--> statement-breakpoint
DROP FUNCTION wc_fold_default_name(text, text);
--> statement-breakpoint
ALTER TABLE "campaigns" DROP COLUMN "default_name";