import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** The user id `NotificationsUserGuard` proved, per request (any HTTP adapter's request object). */
const userIds = new WeakMap<object, string>();

export function setRequestUserId(request: object, userId: string): void {
  userIds.set(request, userId);
}

/**
 * The id of the user that `NotificationsUserGuard` authenticated (the token's `sub`), as a route
 * handler parameter: `list(@NotificationsUserId() userId: string)`.
 */
export const NotificationsUserId = createParamDecorator(
  (_: unknown, context: ExecutionContext): string => {
    const userId = userIds.get(context.switchToHttp().getRequest<object>());
    if (userId === undefined) {
      throw new Error('@NotificationsUserId() needs NotificationsUserGuard on the route');
    }
    return userId;
  },
);
