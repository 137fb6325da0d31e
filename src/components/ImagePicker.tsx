"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "~/trpc/react";
import { formatBytes } from "./format";
import { MediaThumb } from "./MediaThumb";
import { ErrorMessage } from "./ui/error";
import { Field, Select } from "./ui/field";

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

/**
 * An image from the media library, or one uploaded here into it (issue 16: a template's image),
 * with a thumbnail of the choice. "" is no image.
 */
export function ImagePicker({ value, onChange, error, testId }: { value: string; onChange: (mediaId: string) => void; error?: string | null; testId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const media = useQuery(trpc.media.list.queryOptions({ limit: 100 }));
  const [fileError, setFileError] = useState<string | null>(null);
  const [inputKey, setInputKey] = useState(0);
  const upload = useMutation(
    trpc.media.upload.mutationOptions({
      onSuccess: (item) => {
        void queryClient.invalidateQueries(trpc.media.list.pathFilter());
        setInputKey((key) => key + 1);
        onChange(item.id);
      },
    }),
  );

  async function choose(file: File | undefined) {
    setFileError(null);
    upload.reset();
    if (!file) return;
    // Checked here for a quick answer; the server checks the bytes themselves again.
    if (file.type && !TYPES.includes(file.type)) return setFileError("Only JPEG, PNG or WebP images can be sent on WhatsApp");
    if (file.size > MAX_BYTES) return setFileError(`The image is ${formatBytes(file.size)}; WhatsApp takes at most 5 MB`);
    upload.mutate({ filename: file.name, dataBase64: await readAsBase64(file) });
  }

  return (
    <div className="space-y-2">
      <Field label="Image (optional)" error={error} hint="Sent with the text; a campaign may choose another one">
        <Select data-testid={testId} value={value} onChange={(event) => onChange(event.target.value)}>
          <option value="">No image</option>
          {media.data?.items.map((item) => (
            <option key={item.id} value={item.id}>
              {item.filename}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Or upload one">
        <input
          key={inputKey}
          type="file"
          accept="image/jpeg,image/png,image/webp"
          data-testid={`${testId}-file`}
          disabled={upload.isPending}
          onChange={(event) => void choose(event.target.files?.[0])}
          className="mt-1 block w-full text-sm file:mr-3 file:rounded-md file:border-0 file:bg-emerald-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-emerald-800 hover:file:bg-emerald-100"
        />
      </Field>
      {upload.isPending ? (
        <p role="status" className="text-sm text-slate-500">
          Uploading…
        </p>
      ) : null}
      {fileError ? <ErrorMessage error={{ message: fileError }} /> : null}
      <ErrorMessage error={upload.error} />
      {value ? <MediaThumb id={value} alt="The template's image" className="h-24 w-24 rounded-md" /> : null}
    </div>
  );
}
