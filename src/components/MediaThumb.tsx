"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "~/trpc/react";

/** An image from the library; the bytes come once per image (they never change) as a data URL. */
export function MediaThumb({ id, alt, className = "" }: { id: string; alt: string; className?: string }) {
  const trpc = useTRPC();
  const image = useQuery({ ...trpc.media.get.queryOptions({ id }), staleTime: Infinity, gcTime: 10 * 60_000 });
  if (!image.data) {
    return (
      <div className={`flex items-center justify-center bg-slate-100 text-xs text-slate-400 ${className}`}>
        {image.isError ? "unavailable" : "…"}
      </div>
    );
  }
  return <img src={image.data.dataUrl} alt={alt} className={`object-cover ${className}`} />;
}

/** The data URL of an image, or null while it loads (for previews that need the URL itself). */
export function useMediaUrl(id: string | null | undefined): string | null {
  const trpc = useTRPC();
  const image = useQuery({ ...trpc.media.get.queryOptions({ id: id ?? "" }), enabled: Boolean(id), staleTime: Infinity });
  return id ? (image.data?.dataUrl ?? null) : null;
}
