"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatBytes, formatDateTime } from "~/components/format";
import { MediaThumb } from "~/components/MediaThumb";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field } from "~/components/ui/field";
import { Pager, useCursorPager } from "~/components/ui/pager";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ["image/jpeg", "image/png", "image/webp"];

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error ?? new Error("Could not read the file"));
    reader.readAsDataURL(file);
  });
}

export default function MediaPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const pager = useCursorPager();
  const media = useQuery(trpc.media.list.queryOptions({ cursor: pager.cursor, limit: 12 }));
  const [fileError, setFileError] = useState<string | null>(null);
  const [inputKey, setInputKey] = useState(0);
  const refresh = () => void queryClient.invalidateQueries(trpc.media.list.pathFilter());
  const upload = useMutation(
    trpc.media.upload.mutationOptions({
      onSuccess: (item) => {
        toast.success(`"${item.filename}" uploaded`);
        setInputKey((key) => key + 1);
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const remove = useMutation(
    trpc.media.delete.mutationOptions({
      onSuccess: () => {
        toast.success("Image deleted");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  async function choose(file: File | undefined) {
    setFileError(null);
    upload.reset();
    if (!file) return;
    // Checked here for a quick answer; the server checks the bytes themselves again.
    if (file.type && !TYPES.includes(file.type)) {
      setFileError("Only JPEG, PNG or WebP images can be sent on WhatsApp");
      return;
    }
    if (file.size > MAX_BYTES) {
      setFileError(`The image is ${formatBytes(file.size)}; WhatsApp takes at most 5 MB`);
      return;
    }
    upload.mutate({ filename: file.name, dataBase64: await readAsBase64(file) });
  }

  return (
    <>
      <PageHeader title="Media" description="Images to attach to campaigns: JPEG, PNG or WebP, up to 5 MB." />
      <Card title="Upload an image" className="mb-4">
        <Field label="Image file">
          <input
            key={inputKey}
            type="file"
            accept="image/jpeg,image/png,image/webp"
            data-testid="media-file"
            disabled={upload.isPending}
            onChange={(event) => void choose(event.target.files?.[0])}
            className="mt-1 block w-full text-sm file:mr-3 file:rounded-md file:border-0 file:bg-emerald-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-emerald-800 hover:file:bg-emerald-100"
          />
        </Field>
        {upload.isPending ? (
          <p role="status" className="mt-2 text-sm text-slate-500">
            Uploading…
          </p>
        ) : null}
        <div className="mt-2 space-y-2">
          {fileError ? <ErrorMessage error={{ message: fileError }} /> : null}
          <ErrorMessage error={upload.error} />
        </div>
      </Card>

      <Card title="Library">
        <ErrorMessage error={media.error ?? remove.error} />
        {media.isPending ? (
          <Loading />
        ) : media.data?.items.length ? (
          <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4" data-testid="media-library">
            {media.data.items.map((item) => (
              <li key={item.id} className="overflow-hidden rounded-md border border-slate-200 bg-white">
                <MediaThumb id={item.id} alt={item.filename} className="aspect-square w-full" />
                <div className="space-y-1 p-2 text-xs">
                  <p className="truncate font-medium" title={item.filename}>
                    {item.filename}
                  </p>
                  <p className="text-slate-500">
                    {formatBytes(item.sizeBytes)} · {formatDateTime(item.createdAt)}
                  </p>
                  <Button
                    size="sm"
                    variant="danger"
                    className="w-full"
                    pending={remove.isPending && remove.variables?.id === item.id}
                    onClick={async () => {
                      const ok = await confirm({ title: `Delete "${item.filename}"?`, confirmLabel: "Delete", danger: true });
                      if (ok) remove.mutate({ id: item.id });
                    }}
                  >
                    Delete
                  </Button>
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <Empty>No image yet.</Empty>
        )}
        <Pager pager={pager} nextCursor={media.data?.nextCursor} label="Media pages" />
      </Card>
    </>
  );
}
