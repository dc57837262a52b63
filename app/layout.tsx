import type { Metadata, Viewport } from "next";
import { DemoBanner } from "@/components/demo-banner";
import { deploymentOf } from "@/lib/deployment";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Creditloop", template: "%s · Creditloop" },
  description: "Credits, top-ups and campaign billing.",
  icons: { icon: [{ url: "/icon.svg", type: "image/svg+xml" }] },
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-dvh font-sans">
        {/* Read at render time (at build time for static pages: the launchers set it for both). */}
        <DemoBanner deployment={deploymentOf(process.env)} />
        {children}
      </body>
    </html>
  );
}
