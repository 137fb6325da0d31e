import { apiKeyRouter } from "./routers/apiKey";
import { authRouter } from "./routers/auth";
import { campaignRouter } from "./routers/campaign";
import { contactRouter } from "./routers/contact";
import { contactListRouter } from "./routers/contactList";
import { mediaRouter } from "./routers/media";
import { templateRouter } from "./routers/template";
import { wahaServerRouter } from "./routers/wahaServer";
import { webhookRouter } from "./routers/webhook";
import { whatsappSessionRouter } from "./routers/whatsappSession";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  apiKey: apiKeyRouter,
  whatsappSession: whatsappSessionRouter,
  wahaServer: wahaServerRouter,
  contactList: contactListRouter,
  contact: contactRouter,
  template: templateRouter,
  media: mediaRouter,
  campaign: campaignRouter,
  webhook: webhookRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
