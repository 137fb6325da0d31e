import type { Metadata, Viewport } from "next";
import { Providers } from "~/trpc/react";
import "./globals.css";

export const metadata: Metadata = {
  title: "waha-campaigns",
  description: "Scheduled, personalised WhatsApp campaigns through your own WAHA",
};
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
