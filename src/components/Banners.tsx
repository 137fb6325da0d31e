"use client";

import { useEffect, useState } from "react";

/** Set once a browser has seen the banners in full; from then on they take one thin line. */
const SEEN_KEY = "waha-campaigns:banners-seen";

/**
 * The sandbox banner (when the server has no real WAHA) and the ban-risk notice, on every page,
 * the login page included. In full on a browser's first view, then one line that opens on demand:
 * on a phone the two take 170 px otherwise.
 */
export function Banners({ sandbox }: { sandbox: boolean }) {
  // Collapsed until the browser's memory is read: a returning user never sees them jump open.
  const [expanded, setExpanded] = useState(false);
  useEffect(() => {
    let seen = true;
    try {
      seen = window.localStorage.getItem(SEEN_KEY) === "1";
      window.localStorage.setItem(SEEN_KEY, "1");
    } catch {
      seen = false; // storage blocked: show them in full, as on a first view
    }
    if (!seen) setExpanded(true);
  }, []);

  if (!expanded) {
    return (
      <div
        data-testid="banners-collapsed"
        className="flex items-center gap-2 border-b border-amber-100 bg-amber-50/70 px-4 py-1 text-xs text-amber-900 sm:px-6"
      >
        {sandbox ? (
          <span role="note" data-testid="sandbox-banner" className="shrink-0 font-semibold text-sky-900">
            Sandbox: fake WAHA, no real WhatsApp ·
          </span>
        ) : null}
        <span role="note" data-testid="ban-notice" className="min-w-0 truncate">
          Message only people who asked to hear from you.
        </span>
        <button type="button" data-testid="banners-expand" className="ml-auto shrink-0 underline" onClick={() => setExpanded(true)}>
          Details
        </button>
      </div>
    );
  }
  return (
    <div data-testid="banners-expanded">
      {sandbox ? (
        <div role="note" data-testid="sandbox-banner" className="border-b border-sky-200 bg-sky-50 px-4 py-2 text-sm text-sky-900 sm:px-6">
          <strong className="font-semibold">Sandbox:</strong> messages go to the built-in fake WAHA, no real WhatsApp. Set{" "}
          <code className="font-mono">WAHA_URL</code> to send for real.
        </div>
      ) : null}
      <div role="note" data-testid="ban-notice" className="flex items-start gap-2 border-b border-amber-100 bg-amber-50/70 px-4 py-2 text-xs text-amber-900 sm:px-6">
        <span className="min-w-0 flex-1">
          WhatsApp bans numbers that send unsolicited bulk messages. Message only people who asked to hear from you, personalise
          the text, and keep generous delays between messages.
        </span>
        <button type="button" data-testid="banners-collapse" className="shrink-0 underline" onClick={() => setExpanded(false)}>
          Hide
        </button>
      </div>
    </div>
  );
}
