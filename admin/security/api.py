"""`POST /api/v1/security/login` (JWT) under the same lockout as the sign-in form.

FAB's SecurityApi has no rate limit at all (STACK_NOTES §1.7). This subclass keeps FAB's class
name (blueprint `SecurityApi`, OpenAPI tag Security) and answers 401 for bad credentials, 429
with a JSON message while the account or the address is locked, 403 when the password is older
than the maximum age (change it in the web UI), 503 when the lockout store is unreachable."""

from __future__ import annotations

from flask import Response, request
from flask_appbuilder.api import safe
from flask_appbuilder.const import (
    API_SECURITY_ACCESS_TOKEN_KEY,
    API_SECURITY_PROVIDER_DB,
    API_SECURITY_REFRESH_TOKEN_KEY,
)
from flask_appbuilder.security.api import SecurityApi as FabSecurityApi
from flask_appbuilder.security.schemas import login_post
from flask_appbuilder.views import expose
from flask_jwt_extended import create_access_token, create_refresh_token
from marshmallow import ValidationError

from .lockout import LockoutUnavailable
from .login import UNAVAILABLE_MESSAGE, locked_message
from .password_age import EXPIRED_API_MESSAGE, password_expired


class SecurityApi(FabSecurityApi):
    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Response:
        """Sign in with a username and password; returns a JWT (and a refresh token)
        ---
        post:
          description: >-
            Authenticate and get a JWT access token (and a refresh token when asked). After
            5 failures in 15 minutes for one account or one client address, further attempts
            are refused with 429 for 15 minutes.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    username:
                      type: string
                    password:
                      type: string
                    provider:
                      type: string
                      enum:
                      - db
                    refresh:
                      type: boolean
          responses:
            200:
              description: Authentication successful
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              description: The password has expired; change it in the web interface
            429:
              description: Too many failed attempts; the account or address is locked
            500:
              $ref: '#/components/responses/500'
            503:
              description: The lockout store is unavailable
        """
        if not request.is_json:
            return self.response_400(message="Request payload is not JSON")
        try:
            payload = login_post.load(request.json)
        except ValidationError as error:
            return self.response_400(message=error.messages)
        if payload["provider"] != API_SECURITY_PROVIDER_DB:
            return self.response_400(message="provider: only 'db' is supported")
        sm = self.appbuilder.sm
        try:
            result = sm.authenticate(payload["username"], payload["password"])
        except LockoutUnavailable:
            return self.response(503, message=str(UNAVAILABLE_MESSAGE))
        if result.locked:
            return self.response(429, message=locked_message(sm.lockout_minutes))
        user = result.user
        if user is None:
            return self.response_401()
        if password_expired(user):
            return self.response(403, message=str(EXPIRED_API_MESSAGE))
        tokens = {
            API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(identity=str(user.id), fresh=True)
        }
        if payload.get("refresh"):
            tokens[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(identity=str(user.id))
        return self.response(200, **tokens)
